//! Embeds an rpath to libtorch's folder so `voxgen` runs with an empty environment.
//!
//! `torch-sys` exports the folder it linked against as `DEP_TCH_LIBTORCH_LIB`; cargo hands that
//! to this script only because `torch-sys` is a direct dependency.

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
    // A CUDA build must keep libtorch_cuda.so, which --as-needed would otherwise drop.
    println!("cargo:rerun-if-env-changed=VOXGEN_CUDA");
    if std::env::var("VOXGEN_CUDA").is_ok_and(|v| v == "1") {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
}
