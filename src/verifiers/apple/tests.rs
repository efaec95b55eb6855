//! Engine unit tests: which of several failures trustd reports, and on which
//! certificate.
