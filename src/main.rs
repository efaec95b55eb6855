fn main() {
    std::process::exit(certready::cli::main());
}
