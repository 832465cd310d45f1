//! The binary embeds the shipped blueprint packs (`include_dir!` over
//! `templates/`) and provision's own migrations (refinery's
//! `embed_migrations!` over `migrations/`) through macros, whose inputs
//! cargo does not track: an edited template or a new migration left a stale
//! binary until some Rust file changed. Naming both directories here makes
//! cargo rebuild when anything under them changes.

fn main() {
    println!("cargo:rerun-if-changed=templates");
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=build.rs");
}
