//! The one conversion from parsed arguments to the library's [`Settings`]: every command
//! (and the demo) builds its settings here, so a flag means the same everywhere.

use std::path::PathBuf;
use std::sync::Arc;

use super::args::{ClientArgs, FetchArgs, NetArgs, RevocationArgs, TrustArgs};
use super::error::Error;
use crate::check::Settings;
use crate::clients::ClientOptions;
use crate::flyte::config as flyteconfig;
use crate::probe::proxy::{self, ProxySettings};
use crate::probe::ProbeOptions;
use crate::trust::background::Background;
use crate::trust::{self, StoreKind, TrustOptions, TrustStores};

/// Which proxy the probes use.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ProxySource {
    /// flytectl's `admin.httpProxyURL` when the config gives one, else HTTPS_PROXY (what
    /// flytectl's OAuth requests use: `check`, `serve`).
    ConfigThenEnvironment,
    /// HTTPS_PROXY only (what gRPC clients honour: `flyte`'s admin probe).
    Environment,
    /// No proxy: the demo's servers are on this machine.
    Direct,
}

/// The flags a command has, as the conversion needs them; `None` where the command has no
/// such flags (then the defaults apply).
pub struct SettingsArgs<'a> {
    pub net: Option<&'a NetArgs>,
    pub trust: &'a TrustArgs,
    pub clients: Option<&'a ClientArgs>,
    pub at: Option<i64>,
    pub warn_days: u32,
    pub proxy: ProxySource,
    /// The command's --no-fetch; None where it has none (then nothing is fetched).
    pub fetch: Option<&'a FetchArgs>,
    /// The command's --no-revocation and --revocation-timeout; None where it has none
    /// (then no responder is asked).
    pub revocation: Option<&'a RevocationArgs>,
}

impl Settings {
    /// Reads the named trust files and flytectl's config now (a bad file fails before any
    /// probe) and starts loading the OS store in the background.
    pub(crate) fn from_args(args: SettingsArgs<'_>) -> Result<Self, Error> {
        let mut clients = match args.clients {
            Some(clients) => client_options(clients)?,
            None => ClientOptions::from_env(),
        };
        if let Some(path) = &args.trust.ct_log_list {
            let list = crate::ct::LogList::from_file(path)
                .map_err(|e| Error::Usage(format!("--ct-log-list: {e}")))?;
            clients.ct_logs = Some(Arc::new(list));
        }
        if let Some(path) = &args.trust.apple_ct_log_list {
            let list = crate::ct::LogList::from_file(path)
                .map_err(|e| Error::Usage(format!("--apple-ct-log-list: {e}")))?;
            clients.apple_ct_logs = Some(Arc::new(list));
        }
        let probe = match args.net {
            None => ProbeOptions::default(),
            Some(net) => {
                let proxy = match args.proxy {
                    ProxySource::ConfigThenEnvironment => {
                        proxy_settings(clients.flytectl.http_proxy_url.as_deref())?
                    }
                    ProxySource::Environment => proxy_settings(None)?,
                    ProxySource::Direct => ProxySettings::default(),
                };
                ProbeOptions {
                    timeout: net.timeout,
                    connect_to: net.connect_to.clone(),
                    resolve: net.resolve.clone(),
                    sni: net.sni.clone(),
                    proxy,
                }
            }
        };
        Ok(Settings {
            stores: Arc::new(load_stores(args.trust)?),
            at: args.at,
            warn_days: args.warn_days,
            probe,
            clients,
            aia_fetch: args.fetch.is_some_and(|fetch| !fetch.no_fetch),
            revocation: match args.revocation {
                Some(r) => crate::check::RevocationSettings {
                    fetch: !r.no_revocation,
                    timeout: r.revocation_timeout,
                },
                None => crate::check::RevocationSettings::default(),
            },
        })
    }
}

fn client_options(args: &ClientArgs) -> Result<ClientOptions, Error> {
    let mut options = ClientOptions::from_env();
    options.only = args.clients.clone();
    options.anchor_kind = args.anchor_kind;
    if let Some(path) = flytectl_config_path(&args.flytectl_config)? {
        options.flytectl = flyteconfig::load(&path)?;
        if let Some(ca) = &options.flytectl.ca_cert_file {
            let store = trust::store_from_file(StoreKind::CaFile, ca).map_err(|e| {
                Error::Failed(format!("admin.caCertFilePath in {}: {e}", path.display()))
            })?;
            options.ca_cert_store = Some(store);
        }
    }
    Ok(options)
}

fn load_stores(args: &TrustArgs) -> Result<Background<TrustStores>, Error> {
    let named = TrustStores::load_named(&TrustOptions {
        ca_files: args.ca_files.clone(),
        public_roots: args.public_roots.clone(),
    })?;
    Ok(Background::spawn(move || named.with_system()))
}

/// HTTPS_PROXY / NO_PROXY from the environment, with `proxy_url` taking the proxy's place.
fn proxy_settings(proxy_url: Option<&str>) -> Result<ProxySettings, Error> {
    let mut settings = ProxySettings::from_env().map_err(Error::Failed)?;
    if let Some(url) = proxy_url {
        settings.proxy = Some(
            proxy::parse_proxy(url)
                .map_err(|e| Error::Failed(format!("admin.httpProxyURL: {e}")))?,
        );
    }
    Ok(settings)
}

/// The flytectl config path `--flytectl-config [PATH]` names, following flytectl's lookup.
pub fn flytectl_config_path(given: &Option<Option<PathBuf>>) -> Result<Option<PathBuf>, Error> {
    match given {
        None => Ok(None),
        Some(Some(path)) => Ok(Some(path.clone())),
        Some(None) => flyteconfig::locate().map(Some).ok_or_else(|| {
            Error::Usage("--flytectl-config: no config found ($FLYTECTL_CONFIG is unset and ~/.flyte/config.yaml does not exist); give its path".into())
        }),
    }
}
