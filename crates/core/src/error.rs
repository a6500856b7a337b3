//! The core's one error type: a stable code to branch on, the option at fault when there is
//! one, and a message naming the input. The N-API binding turns it into a JS error whose `code`
//! is [`ErrorCode::as_str`]; the codes are public API, so they never change spelling.
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// A bad option or argument ([`Error::option`] names it).
    InvalidOption,
    /// Not Linux: there is no /proc to read.
    UnsupportedPlatform,
    /// The proc filesystem (or the directory given for it) cannot be read.
    ProcRead,
    /// `start` on a sampler that is already running.
    AlreadyStarted,
    /// The sampling thread could not be started.
    Thread,
    /// Stored or received bytes that are not what they should be (a corrupt sample blob).
    InvalidData,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 6] = [
        ErrorCode::InvalidOption,
        ErrorCode::UnsupportedPlatform,
        ErrorCode::ProcRead,
        ErrorCode::AlreadyStarted,
        ErrorCode::Thread,
        ErrorCode::InvalidData,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidOption => "ERR_INVALID_OPTION",
            ErrorCode::UnsupportedPlatform => "ERR_UNSUPPORTED_PLATFORM",
            ErrorCode::ProcRead => "ERR_PROC_READ",
            ErrorCode::AlreadyStarted => "ERR_ALREADY_STARTED",
            ErrorCode::Thread => "ERR_THREAD",
            ErrorCode::InvalidData => "ERR_INVALID_DATA",
        }
    }
}

impl AsRef<str> for ErrorCode {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug)]
pub struct Error {
    code: ErrorCode,
    option: Option<&'static str>,
    message: String,
    source: Option<std::io::Error>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error {
            code,
            option: None,
            message: message.into(),
            source: None,
        }
    }

    /// A bad option: `option` is its name (a [`crate::SamplerConfig`] field), `problem` reads
    /// after it ("must be at least 1, got 0").
    pub fn invalid_option(option: &'static str, problem: impl Into<String>) -> Error {
        Error {
            option: Some(option),
            ..Error::new(ErrorCode::InvalidOption, problem)
        }
    }

    /// A system call that failed on `path` (or on what `what` names).
    pub fn io(code: ErrorCode, what: impl fmt::Display, e: std::io::Error) -> Error {
        let message = format!("{what}: {e}");
        Error {
            source: Some(e),
            ..Error::new(code, message)
        }
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The option at fault, by its Rust name (bindings rename it to their own spelling).
    pub fn option(&self) -> Option<&'static str> {
        self.option
    }

    /// The message without the option's name (see [`Error::option`]); `Display` joins them.
    pub fn problem(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.option {
            Some(o) => write!(f, "{o} {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_distinct() {
        let names: Vec<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            names,
            [
                "ERR_INVALID_OPTION",
                "ERR_UNSUPPORTED_PLATFORM",
                "ERR_PROC_READ",
                "ERR_ALREADY_STARTED",
                "ERR_THREAD",
                "ERR_INVALID_DATA"
            ]
        );
    }

    #[test]
    fn an_option_error_names_the_option() {
        let e = Error::invalid_option("capacity", "must be at least 1, got 0");
        assert_eq!(e.code(), ErrorCode::InvalidOption);
        assert_eq!(e.option(), Some("capacity"));
        assert_eq!(e.problem(), "must be at least 1, got 0");
        assert_eq!(e.to_string(), "capacity must be at least 1, got 0");
    }

    #[test]
    fn an_io_error_keeps_its_source() {
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        let e = Error::io(ErrorCode::ProcRead, "/nowhere/proc", io);
        assert_eq!(e.code(), ErrorCode::ProcRead);
        assert!(e.to_string().starts_with("/nowhere/proc: "), "{e}");
        let source = std::error::Error::source(&e).expect("source");
        assert!(source.to_string().contains("not found"), "{source}");
    }
}
