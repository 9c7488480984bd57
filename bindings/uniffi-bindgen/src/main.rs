//! `uniffi-bindgen`, built from the same pinned uniffi as the library so the generated bindings
//! always match the scaffolding. Kept in its own crate: it is slow to build and the library never
//! needs it.

fn main() {
    uniffi::uniffi_bindgen_main()
}
