//! A value computed on another thread: loading the OS trust store (hundreds of files)
//! overlaps the probe's network round-trips instead of preceding them. Async code awaits
//! it ([`Background::get`]) without blocking a runtime worker; synchronous code (`inspect`,
//! `lint-config`) waits for it ([`Background::wait`]).

use std::sync::{Arc, Mutex, OnceLock};
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

    /// The value, blocking the calling thread until it is loaded. Not for async code.
    pub fn wait(&self) -> &T {
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

impl<T: Send + Sync + 'static> Background<T> {
    /// The value, awaited on tokio's blocking pool while it loads, so the runtime's
    /// workers keep serving other targets.
    pub async fn get(self: &Arc<Self>) -> &T {
        if let Some(value) = self.value.get() {
            return value;
        }
        let this = Arc::clone(self);
        if let Err(e) = tokio::task::spawn_blocking(move || {
            this.wait();
        })
        .await
        {
            if e.is_panic() {
                std::panic::resume_unwind(e.into_panic());
            }
        }
        self.wait()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn get_waits_without_blocking_the_runtime() {
        let (release, released) = std::sync::mpsc::channel::<()>();
        let value = Arc::new(Background::spawn(move || {
            released.recv().unwrap();
            42
        }));
        // On a single-threaded runtime, a blocking join inside `get` would deadlock: the
        // task that releases the loader could never run.
        let waiter = tokio::spawn({
            let value = value.clone();
            async move { *value.get().await }
        });
        tokio::task::yield_now().await;
        release.send(()).unwrap();
        assert_eq!(waiter.await.unwrap(), 42);
        assert_eq!(*value.wait(), 42);
    }
}
