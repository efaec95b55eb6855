fn main() {
    std::process::exit(certready::app::main());
}
