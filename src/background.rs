//! A value computed on another thread and waited for on first use: loading the OS trust
//! store (hundreds of files) overlaps the probe's network round-trips instead of
//! preceding them.

use std::ops::Deref;
use std::sync::{Mutex, OnceLock};
use std::thread::JoinHandle;

pub struct Background<T> {
    value: OnceLock<T>,
    loader: Mutex<Option<JoinHandle<T>>>,
}

impl<T: Send + 'static> Background<T> {
    pub fn spawn(load: impl FnOnce() -> T + Send + 'static) -> Self {
        Background {
            value: OnceLock::new(),
            loader: Mutex::new(Some(std::thread::spawn(load))),
        }
    }
}

impl<T> Background<T> {
    pub fn ready(value: T) -> Self {
        Background {
            value: OnceLock::from(value),
            loader: Mutex::new(None),
        }
    }
}

impl<T> From<T> for Background<T> {
    fn from(value: T) -> Self {
        Background::ready(value)
    }
}

impl<T: Default> Default for Background<T> {
    fn default() -> Self {
        Background::ready(T::default())
    }
}

impl<T> Deref for Background<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.value.get_or_init(|| {
            let loader = self
                .loader
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
                .expect("a Background value is either ready or still has its loader");
            match loader.join() {
                Ok(value) => value,
                // The loader's panic is the program's bug; surface it where it is used.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }
}
