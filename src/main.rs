//! `cscert`: dispatches to a cmdlet by first argument or by the program's own name.

fn main() -> std::process::ExitCode {
    let code = cscert::cli::run(
        std::env::args_os().collect(),
        Box::new(std::io::BufWriter::new(std::io::stdout())),
        Box::new(std::io::stderr()),
    );
    std::process::ExitCode::from(code as u8)
}
