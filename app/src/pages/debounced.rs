//! A callback run once input pauses (autosave, address suggestions), made only in the browser.
//!
//! Leptos' `debounce` keeps its timer in a thread-local stored value. Made while rendering on
//! the server, it is dropped with the page's owner on whichever Tokio thread finishes the render,
//! and dropping it off its own thread panics (`SendWrapper`), which closed the connection with an
//! empty answer. The server never waits for a pause anyway, so there it is a no-op.

use std::time::Duration;

/// `f`, called `delay` after the last call in a burst; a copyable handle to call it.
pub fn debounced<T: 'static>(delay: Duration, f: impl FnMut(T) + 'static) -> impl Fn(T) + Copy + 'static {
    #[cfg(feature = "hydrate")]
    {
        use leptos::prelude::{Owner, StoredValue, UpdateValue};
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        // Once the page's part that made it is gone (the composer replaced after "Save draft"),
        // nothing runs: `f` reads actions and signals disposed with it, and reading one panics,
        // which stopped the whole page. (A call made while it was being taken down could still
        // set a timer after `debounce` cleared its own.)
        let alive = Arc::new(AtomicBool::new(true));
        Owner::on_cleanup({
            let alive = Arc::clone(&alive);
            move || alive.store(false, Ordering::Relaxed)
        });
        let mut f = f;
        let debounced = leptos::leptos_dom::helpers::debounce(delay, move |value: T| {
            if alive.load(Ordering::Relaxed) {
                f(value);
            }
        });
        let call = StoredValue::new_local(debounced);
        move |value: T| {
            call.try_update_value(|call| call(value));
        }
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (delay, f);
        |_: T| {}
    }
}
