//! Drag and drop in the mail view, once the page runs: messages dragged onto a folder of the
//! tree move there (D4: the ticked ones when the row dragged is ticked, else that row), a tag
//! dragged from the tree onto a message tags it (D6), and a user folder dragged onto another
//! folder, or onto the tree's title for the top level, moves there with its subfolders (D3).
//!
//! A drop posts the same form a button would (the toolbar's, `ssr::message_actions`, or the
//! folders page's move), asking for no redirect, then reads the page's view again. The menus
//! and the folders page do the same without a mouse.

#[cfg(feature = "hydrate")]
use leptos::prelude::*;

/// The drag's data types: our own, so a drop of anything else (a file, a link) does nothing.
#[cfg(feature = "hydrate")]
const MESSAGES_TYPE: &str = "application/x-facteur-messages";
#[cfg(feature = "hydrate")]
const TAG_TYPE: &str = "application/x-facteur-tag";
#[cfg(feature = "hydrate")]
const FOLDER_TYPE: &str = "application/x-facteur-folder";

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
        } else if let Ok(Some(folder)) = target.closest(".folder[draggable=true][data-path]") {
            let _ = data.set_data(FOLDER_TYPE, &folder.get_attribute("data-path").unwrap_or_default());
            data.set_effect_allowed("move");
        }
    });
    // Where a drop may land: a folder for messages or a folder, a message for a tag.
    let on_over = Closure::<dyn FnMut(web_sys::DragEvent)>::new(move |event: web_sys::DragEvent| {
        if let Some(zone) = drop_zone(&event) {
            event.prevent_default();
            let effect = if zone.has_attribute("data-id") { "copy" } else { "move" };
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
        let dragged_folder = data.get_data(FOLDER_TYPE).unwrap_or_default();
        if !dragged_folder.is_empty() {
            let parent = zone.get_attribute("data-path").unwrap_or_default();
            if let Some(form) = folder_move(&dragged_folder, &parent) {
                post(FOLDER_MOVE_PATH, &form, done.clone());
            }
            return;
        }
        let form = if let Some(folder) = zone.get_attribute("data-folder") {
            let ids = data.get_data(MESSAGES_TYPE).unwrap_or_default();
            let ids: Vec<&str> = ids.split(' ').filter(|id| !id.is_empty()).collect();
            form_body(&[("action", "move"), ("to", &folder)], &ids)
        } else {
            let tag = data.get_data(TAG_TYPE).unwrap_or_default();
            let id = zone.get_attribute("data-id").unwrap_or_default();
            form_body(&[("action", "tag"), ("tag", &tag)], &[&id])
        };
        post(crate::pages::mail::ACTIONS_PATH, &form, done.clone());
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
/// tag, a folder or the tree's title (the top level) for a folder.
#[cfg(feature = "hydrate")]
fn drop_zone(event: &web_sys::DragEvent) -> Option<web_sys::Element> {
    let types = event.data_transfer()?.types();
    let carries = |kind: &str| types.includes(&leptos::wasm_bindgen::JsValue::from_str(kind), 0);
    let target = element(event.target())?;
    if carries(MESSAGES_TYPE) {
        target.closest(".folder[data-folder]").ok().flatten()
    } else if carries(TAG_TYPE) {
        target.closest(".message-row[data-id]").ok().flatten()
    } else if carries(FOLDER_TYPE) {
        target.closest(".folder[data-path], .folders-top[data-path]").ok().flatten()
    } else {
        None
    }
}

/// The folders page's move (a rename keeping the name) as a form body, for `path` dropped into
/// `parent`; `None` when the drop changes nothing or would put a folder inside itself, which
/// the server refuses anyway.
#[cfg(feature = "hydrate")]
fn folder_move(path: &str, parent: &str) -> Option<String> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let current_parent = path.rsplit_once('/').map_or("", |(parent, _)| parent);
    let inside_itself = parent == path || parent.starts_with(&format!("{path}/"));
    if parent == current_parent || inside_itself {
        return None;
    }
    let encode = |text: &str| String::from(js_sys::encode_uri_component(text));
    Some(format!("path={}&name={}&parent={}", encode(path), encode(name), encode(parent)))
}

/// Where a folder's move is posted: the folders page's rename.
#[cfg(feature = "hydrate")]
const FOLDER_MOVE_PATH: &str = <crate::pages::folders::RenameFolder as leptos::server_fn::ServerFn>::PATH;

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

/// Posts `form` to `path`, then runs `done`.
#[cfg(feature = "hydrate")]
fn post(path: &str, form: &str, done: impl Fn() + 'static) {
    use leptos::wasm_bindgen::JsCast;
    use leptos::wasm_bindgen::closure::Closure;
    let Ok(request) = web_sys::XmlHttpRequest::new() else { return };
    if request.open("POST", path).is_err() {
        return;
    }
    let _ = request.set_request_header("Content-Type", "application/x-www-form-urlencoded");
    let answered = request.clone();
    let on_end = Closure::once_into_js(move || {
        // Refused (a session gone, a message moved meanwhile, a name taken): the page as it now
        // is says more than the view read again would. The actions answer 204, a server
        // function 200.
        if answered.status().is_ok_and(|status| (200..300).contains(&status)) {
            done();
        } else {
            let _ = window().location().reload();
        }
    });
    request.set_onloadend(Some(on_end.unchecked_ref()));
    let _ = request.send_with_opt_str(Some(form));
}
