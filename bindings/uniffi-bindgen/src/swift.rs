//! `uniffi-bindgen-swift`: Swift sources, headers and one combined modulemap for an XCFramework,
//! from the same pinned uniffi as the library.

fn main() {
    uniffi::uniffi_bindgen_swift()
}
