//! The capture filter is exactly what tcpdump compiles for the same
//! expression: `tests/fixtures/bpf/inbound-tcp-port-P.txt` is the output of
//! `tcpdump -i lo -dd 'inbound and tcp port P'`, checked in for a few ports.

use synack::os::bpf;

#[test]
fn filter_equals_tcpdump_dd_for_every_checked_in_port() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bpf");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let port: u16 = name.strip_prefix("inbound-tcp-port-").unwrap().parse().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let theirs = bpf::parse_dd(&text).unwrap_or_else(|| panic!("{name}: not tcpdump -dd output"));
        assert_eq!(bpf::inbound_tcp_port(port), theirs, "port {port}");
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} fixtures in {}", dir.display());
}

#[test]
fn filters_for_different_ports_differ_only_in_the_port() {
    let (a, b) = (bpf::inbound_tcp_port(80), bpf::inbound_tcp_port(8001));
    let differing: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    assert_eq!(differing.len(), 4);
    assert!(differing.iter().all(|&i| a[i].k == 80 && b[i].k == 8001));
}
