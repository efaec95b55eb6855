//! Why a command failed before it could report.

/// Why a command could not produce a report. Both kinds exit 3 (UNKNOWN): a monitor must
/// not read a broken invocation as a healthy endpoint.
#[derive(Debug)]
pub enum Error {
    /// The arguments are wrong in a way clap could not see (no targets, a config without
    /// an endpoint): printed the way clap prints its own usage errors.
    Usage(String),
    /// A file, the system or the network failed (an unreadable config, no runtime, a port
    /// in use): printed as `certready: …`.
    Failed(String),
}

impl From<crate::input::InputError> for Error {
    fn from(error: crate::input::InputError) -> Self {
        Error::Failed(error.to_string())
    }
}

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Self {
        Error::Failed(error.to_string())
    }
}
