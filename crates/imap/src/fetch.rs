//! What FETCH cuts out of a message that its stored facts do not answer: body sections by part
//! number, from a fresh parse. The rest (ENVELOPE, BODYSTRUCTURE, header fields) comes from
//! the facts the store keeps (`facts::Facts`).

pub(crate) mod section;
