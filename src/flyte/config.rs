//! flytectl's client config (`~/.flyte/config.yaml`): the `admin` settings that change
//! how its clients verify certificates, found the way flytectl finds the file.

use std::path::{Path, PathBuf};

use crate::clients::FlytectlSettings;
use crate::input::{self, InputError};

/// flytectl's lookup order after `--config`: $FLYTECTL_CONFIG, then ~/.flyte/config.yaml.
pub fn locate() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("FLYTECTL_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let home = std::env::var_os("HOME")?;
    let default = Path::new(&home).join(".flyte").join("config.yaml");
    default.exists().then_some(default)
}

/// flytectl's `admin.authType`: how it gets a token. flytectl matches the names exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthType {
    ClientSecret,
    Pkce,
    ExternalCommand,
    DeviceFlow,
}

impl AuthType {
    pub(crate) const ALL: [AuthType; 4] = [
        AuthType::ClientSecret,
        AuthType::Pkce,
        AuthType::ExternalCommand,
        AuthType::DeviceFlow,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            AuthType::ClientSecret => "ClientSecret",
            AuthType::Pkce => "Pkce",
            AuthType::ExternalCommand => "ExternalCommand",
            AuthType::DeviceFlow => "DeviceFlow",
        }
    }

    /// The type `text` names, case-sensitively; None for anything flytectl would reject.
    pub(crate) fn parse(text: &str) -> Option<AuthType> {
        AuthType::ALL.into_iter().find(|t| t.name() == text)
    }
}

/// flytectl's `admin.endpoint`, `admin.httpProxyURL` and `admin.authType`, for
/// `certready flyte`.
#[derive(Debug, Clone, Default)]
pub struct AdminEndpoint {
    pub endpoint: Option<String>,
    pub http_proxy_url: Option<String>,
    /// None when absent or not a value flytectl accepts.
    pub auth_type: Option<AuthType>,
}

pub fn load_endpoint(path: &Path) -> Result<AdminEndpoint, InputError> {
    let value = read_yaml(path)?;
    let text = |key: &str| {
        value
            .get("admin")
            .and_then(|a| a.get(key))
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Ok(AdminEndpoint {
        endpoint: text("endpoint"),
        http_proxy_url: text("httpProxyURL"),
        auth_type: text("authType").as_deref().and_then(AuthType::parse),
    })
}

fn read_yaml(path: &Path) -> Result<serde_json::Value, InputError> {
    let bytes = input::read_limited(path)?;
    let text =
        std::str::from_utf8(&bytes).map_err(|_| InputError::new(path, "is not UTF-8 text"))?;
    serde_saphyr::from_str(text)
        .map_err(|e| InputError::new(path, format!("is not valid YAML: {e}")))
}

pub fn load(path: &Path) -> Result<FlytectlSettings, InputError> {
    let value = read_yaml(path)?;
    let admin = value.get("admin").ok_or_else(|| {
        InputError::new(
            path,
            "has no `admin:` section; is it a flytectl config (~/.flyte/config.yaml)?",
        )
    })?;
    let flag = |key: &str| -> Result<bool, InputError> {
        match admin.get(key) {
            None | Some(serde_json::Value::Null) => Ok(false),
            Some(serde_json::Value::Bool(b)) => Ok(*b),
            Some(other) => Err(InputError::new(
                path,
                format!("admin.{key} must be true or false, not {other}"),
            )),
        }
    };
    let ca_cert_file = match admin.get("caCertFilePath") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) if s.is_empty() => None,
        Some(serde_json::Value::String(s)) => Some(PathBuf::from(s)),
        Some(other) => {
            return Err(InputError::new(
                path,
                format!("admin.caCertFilePath must be a path, not {other}"),
            ))
        }
    };
    Ok(FlytectlSettings {
        config_path: Some(path.to_path_buf()),
        ca_cert_file,
        insecure_skip_verify: flag("insecureSkipVerify")?,
        insecure: flag("insecure")?,
        http_proxy_url: admin
            .get("httpProxyURL")
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_admin_settings_that_matter() {
        let dir = std::env::temp_dir().join(format!("certready-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.yaml");
        std::fs::write(
            &path,
            "admin:\n  endpoint: dns:///flyte.example.com\n  insecureSkipVerify: true\n  caCertFilePath: /etc/ca.pem\n  authType: Pkce\n",
        )
        .unwrap();
        let settings = load(&path).unwrap();
        assert!(settings.insecure_skip_verify);
        assert!(!settings.insecure);
        assert_eq!(settings.ca_cert_file, Some(PathBuf::from("/etc/ca.pem")));

        std::fs::write(&path, "console:\n  endpoint: x\n").unwrap();
        assert!(load(&path).unwrap_err().message.contains("no `admin:`"));
        std::fs::write(&path, "admin:\n  insecureSkipVerify: maybe\n").unwrap();
        assert!(load(&path).unwrap_err().message.contains("true or false"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn auth_types_are_matched_exactly() {
        for auth_type in AuthType::ALL {
            assert_eq!(AuthType::parse(auth_type.name()), Some(auth_type));
        }
        assert_eq!(AuthType::parse("pkce"), None);
    }
}
