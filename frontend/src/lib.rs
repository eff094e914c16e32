//! The browser entry point: hydrates the server-rendered page with [`app::App`]. Nothing else
//! belongs here; the app itself lives in the `app` crate.

// The app's view types nest deeply and are laid out here, where they are monomorphised.
#![recursion_limit = "256"]

/// Called by the module script `app::HydrationAfterPaint` puts in the page.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
