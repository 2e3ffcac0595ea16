// SPDX-License-Identifier: MIT
// Blocked time of std::process::Command::spawn from a parent holding MIB
// MiB of touched memory: runtimes.sh runs it with and without the preload.
//   spawn TARGET N MIB   prints "p50_us p90_us p99_us"
use std::process::Command;
use std::time::Instant;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let n: usize = a[2].parse().expect("N");
    let mib: usize = a[3].parse().expect("MIB");
    let mut mem = vec![0u8; mib << 20];
    for i in (0..mem.len()).step_by(4096) {
        mem[i] = 1;
    }
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let mut c = Command::new(&a[1]).spawn().expect("spawn");
        v.push(t.elapsed().as_nanos() as f64 / 1e3);
        let st = c.wait().expect("wait");
        assert!(st.success(), "child failed: {st}");
    }
    v.sort_by(|x, y| x.partial_cmp(y).unwrap());
    println!("{:.1} {:.1} {:.1}", v[n / 2], v[n * 9 / 10], v[n * 99 / 100]);
    std::hint::black_box(&mem);
}
