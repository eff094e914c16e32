//! Drag and drop in the mail view, once the page runs: messages dragged onto a folder of the
//! tree move there (D4: the ticked ones when the row dragged is ticked, else that row), and a
//! tag dragged from the tree onto a message tags it (D6).
//!
//! A drop posts the same form the toolbar's buttons post (`ssr::message_actions`), asking for
//! no redirect, then reads the page's view again. The menus do the same without a mouse.

#[cfg(feature = "hydrate")]
use leptos::prelude::*;

/// The drag's data types: our own, so a drop of anything else (a file, a link) does nothing.
#[cfg(feature = "hydrate")]
const MESSAGES_TYPE: &str = "application/x-facteur-messages";
#[cfg(feature = "hydrate")]
const TAG_TYPE: &str = "application/x-facteur-tag";

/// Listens on the document while the mail view is shown; `done` runs after a drop acted.
#[cfg(feature = "hydrate")]
pub fn follow_drags(done: impl Fn() + Clone + 'static) {
    use leptos::wasm_bindgen::JsCast;
    use leptos::wasm_bindgen::closure::Closure;

    let on_start = Closure::<dyn FnMut(web_sys::DragEvent)>::new(move |event: web_sys::DragEvent| {
        let (Some(target), Some(data)) = (element(event.target()), event.data_transfer()) else { return };
        if let Ok(Some(row)) = target.closest(".message-row") {
            let _ = data.set_data(MESSAGES_TYPE, &dragged_ids(&row).join(" "));
            data.set_effect_allowed("move");
        } else if let Ok(Some(tag)) = target.closest(".tag-link[data-tag]") {
            let _ = data.set_data(TAG_TYPE, &tag.get_attribute("data-tag").unwrap_or_default());
            data.set_effect_allowed("copy");
        }
    });
    // Where a drop may land: a folder for messages, a message for a tag.
    let on_over = Closure::<dyn FnMut(web_sys::DragEvent)>::new(move |event: web_sys::DragEvent| {
        if let Some(zone) = drop_zone(&event) {
            event.prevent_default();
            let effect = if zone.has_attribute("data-folder") { "move" } else { "copy" };
            if let Some(data) = event.data_transfer() {
                data.set_drop_effect(effect);
            }
            let _ = zone.class_list().add_1("drop-target");
        }
    });
    let on_leave = Closure::<dyn FnMut(web_sys::DragEvent)>::new(move |event: web_sys::DragEvent| {
        if let Some(zone) = drop_zone(&event) {
            let _ = zone.class_list().remove_1("drop-target");
        }
    });
    let on_drop = Closure::<dyn FnMut(web_sys::DragEvent)>::new(move |event: web_sys::DragEvent| {
        let (Some(zone), Some(data)) = (drop_zone(&event), event.data_transfer()) else { return };
        event.prevent_default();
        let _ = zone.class_list().remove_1("drop-target");
        let form = if let Some(folder) = zone.get_attribute("data-folder") {
            let ids = data.get_data(MESSAGES_TYPE).unwrap_or_default();
            let ids: Vec<&str> = ids.split(' ').filter(|id| !id.is_empty()).collect();
            form_body(&[("action", "move"), ("to", &folder)], &ids)
        } else {
            let tag = data.get_data(TAG_TYPE).unwrap_or_default();
            let id = zone.get_attribute("data-id").unwrap_or_default();
            form_body(&[("action", "tag"), ("tag", &tag)], &[&id])
        };
        post(&form, done.clone());
    });
    let document = document();
    for (name, listener) in
        [("dragstart", &on_start), ("dragover", &on_over), ("dragleave", &on_leave), ("drop", &on_drop)]
    {
        let _ = document.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
    }
    let listeners = StoredValue::new_local([on_start, on_over, on_leave, on_drop]);
    on_cleanup(move || {
        let document = leptos::prelude::document();
        listeners.try_with_value(|[start, over, leave, drop]| {
            for (name, listener) in [("dragstart", start), ("dragover", over), ("dragleave", leave), ("drop", drop)] {
                let _ = document.remove_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
            }
        });
    });
}

#[cfg(not(feature = "hydrate"))]
pub fn follow_drags(_done: impl Fn() + Clone + 'static) {}

#[cfg(feature = "hydrate")]
fn element(target: Option<web_sys::EventTarget>) -> Option<web_sys::Element> {
    use leptos::wasm_bindgen::JsCast;
    target.and_then(|target| target.dyn_into::<web_sys::Node>().ok()).and_then(|node| {
        // A drag over text reports the text node.
        match node.dyn_ref::<web_sys::Element>() {
            Some(element) => Some(element.clone()),
            None => node.parent_element(),
        }
    })
}

/// The ids a drag from `row` carries: the ticked rows when it is one of them, else itself.
#[cfg(feature = "hydrate")]
fn dragged_ids(row: &web_sys::Element) -> Vec<String> {
    let own = row.get_attribute("data-id").unwrap_or_default();
    let ticked = row.query_selector(".row-check:checked").ok().flatten().is_some();
    if !ticked {
        return vec![own];
    }
    let Ok(checks) = document().query_selector_all(".row-check:checked") else { return vec![own] };
    (0..checks.length())
        .filter_map(|i| checks.item(i))
        .filter_map(|node| leptos::wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(node).ok())
        .map(|check| check.value())
        .collect()
}

/// The element a drop of this drag would land on, if any: a folder for messages, a row for a
/// tag.
#[cfg(feature = "hydrate")]
fn drop_zone(event: &web_sys::DragEvent) -> Option<web_sys::Element> {
    let types = event.data_transfer()?.types();
    let carries = |kind: &str| types.includes(&leptos::wasm_bindgen::JsValue::from_str(kind), 0);
    let target = element(event.target())?;
    if carries(MESSAGES_TYPE) {
        target.closest(".folder[data-folder]").ok().flatten()
    } else if carries(TAG_TYPE) {
        target.closest(".message-row[data-id]").ok().flatten()
    } else {
        None
    }
}

/// A form body: the fields, then one `id` per message. When the list shows conversations
/// (its form says so), each message stands for its conversation, as with the toolbar.
#[cfg(feature = "hydrate")]
fn form_body(fields: &[(&str, &str)], ids: &[&str]) -> String {
    let encode = |text: &str| String::from(js_sys::encode_uri_component(text));
    let mut pairs: Vec<String> = fields.iter().map(|(name, value)| format!("{name}={}", encode(value))).collect();
    pairs.extend(ids.iter().map(|id| format!("id={}", encode(id))));
    let list_field = |name: &str| {
        document()
            .query_selector(&format!(".list-form input[name={name}]"))
            .ok()
            .flatten()
            .and_then(|input| input.get_attribute("value"))
    };
    if let (Some(folder), Some(_)) = (list_field("folder"), list_field("whole_threads")) {
        pairs.push(format!("folder={}", encode(&folder)));
        pairs.push("whole_threads=1".to_string());
    }
    pairs.push("reply=none".to_string());
    pairs.join("&")
}

/// Posts `form` to the actions, then runs `done`.
#[cfg(feature = "hydrate")]
fn post(form: &str, done: impl Fn() + 'static) {
    use leptos::wasm_bindgen::JsCast;
    use leptos::wasm_bindgen::closure::Closure;
    let Ok(request) = web_sys::XmlHttpRequest::new() else { return };
    if request.open("POST", crate::pages::mail::ACTIONS_PATH).is_err() {
        return;
    }
    let _ = request.set_request_header("Content-Type", "application/x-www-form-urlencoded");
    let answered = request.clone();
    let on_end = Closure::once_into_js(move || {
        // Refused (a session gone, a message moved meanwhile): the page as it now is says more
        // than the view read again would.
        if answered.status().ok() == Some(204) {
            done();
        } else {
            let _ = window().location().reload();
        }
    });
    request.set_onloadend(Some(on_end.unchecked_ref()));
    let _ = request.send_with_opt_str(Some(form));
}
