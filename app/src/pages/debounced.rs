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
        use leptos::prelude::{StoredValue, UpdateValue};
        let call = StoredValue::new_local(leptos::leptos_dom::helpers::debounce(delay, f));
        move |value: T| call.update_value(|call| call(value))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (delay, f);
        |_: T| {}
    }
}
