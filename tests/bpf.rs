//! The capture filters are exactly what tcpdump compiles for the same
//! expressions: `tests/fixtures/bpf/inbound-tcp-port-P.txt` is the output of
//! `tcpdump -i lo -dd 'inbound and tcp port P'`, and
//! `inbound-tcp-udp-port-P.txt` of `tcpdump -i lo -dd 'inbound and ((tcp or
//! udp) and port P or icmp or icmp6)'`, checked in for a few ports. When
//! tcpdump is installed, it is also asked afresh for a port of no fixture.

use synack::os::bpf;

type Filter = fn(u16) -> Vec<bpf::Insn>;

const FILTERS: [(&str, Filter, &str); 2] = [
    ("inbound-tcp-port-", bpf::inbound_tcp_port, "inbound and tcp port {P}"),
    ("inbound-tcp-udp-port-", bpf::inbound_tcp_udp_port, "inbound and ((tcp or udp) and port {P} or icmp or icmp6)"),
];

#[test]
fn filter_equals_tcpdump_dd_for_every_checked_in_port() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bpf");
    let mut checked = [0; FILTERS.len()];
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        // The longest prefix that names the file (tcp-udp before tcp).
        let (i, port) = FILTERS
            .iter()
            .enumerate()
            .filter_map(|(i, (prefix, _, _))| Some((i, name.strip_prefix(prefix)?.parse::<u16>().ok()?)))
            .next()
            .unwrap_or_else(|| panic!("{name}: no filter of that name"));
        let text = std::fs::read_to_string(&path).unwrap();
        let theirs = bpf::parse_dd(&text).unwrap_or_else(|| panic!("{name}: not tcpdump -dd output"));
        assert_eq!(FILTERS[i].1(port), theirs, "{name}");
        checked[i] += 1;
    }
    assert!(checked.iter().all(|&n| n >= 4), "fixtures per filter: {checked:?} in {}", dir.display());
}

#[test]
fn filter_equals_what_tcpdump_compiles_now() {
    let Ok(probe) = std::process::Command::new("tcpdump").arg("--version").output() else {
        eprintln!("tcpdump is not installed: the checked-in outputs stand");
        return;
    };
    assert!(probe.status.success());
    for (name, filter, expr) in FILTERS {
        for port in [443, 5353, 12345] {
            let out = std::process::Command::new("tcpdump")
                .args(["-y", "EN10MB", "-dd", &expr.replace("{P}", &port.to_string())])
                .output()
                .unwrap();
            if !out.status.success() {
                eprintln!("tcpdump -dd failed: {}", String::from_utf8_lossy(&out.stderr));
                return;
            }
            let theirs = bpf::parse_dd(&String::from_utf8_lossy(&out.stdout)).unwrap();
            assert_eq!(filter(port), theirs, "{name}{port}");
        }
    }
}

#[test]
fn filters_for_different_ports_differ_only_in_the_port() {
    for (name, filter, _) in FILTERS {
        let (a, b) = (filter(80), filter(8001));
        let differing: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
        assert_eq!(differing.len(), 4, "{name}");
        assert!(differing.iter().all(|&i| a[i].k == 80 && b[i].k == 8001));
    }
}
