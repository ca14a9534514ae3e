//! Benchmark: 40,000 cards into PDFs (goal: <= 20 s on the 2-core CI machine, <= 6 KB/card).
//!
//! A synthetic district — 40 schools × 40 classes × 25 students, names with accents — is read
//! from a simple roster CSV, then each school is printed to its own letter-8 PDF (the way a
//! technician prints a district: one file per school), schools spread over all cores. Then the
//! same 40,000 cards go into ONE PDF (one `card-printer print` of the whole district).
//! `PRINT40K_PART=a` or `=b` runs one part only.
//!
//! Run: `cargo bench -p card-printer --bench print40k` (builds with the release profile). The
//! smoke run (`cargo test`, `cargo nextest run`; `benches/harness/mod.rs`) prints a district
//! of 2 schools × 2 classes the same way.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use card_printer::cards::{self, Selection, Validity};
use card_printer::layout::LayoutKind;
use quickcard::IssuerKey;
use quickcard_roster::Roster;

#[path = "../../benches/harness/mod.rs"]
mod harness;

const SCHOOLS: usize = 40;
const CLASSES: usize = 40;
const STUDENTS: usize = 25;

fn roster_csv(schools: usize, classes: usize) -> String {
    let given = [
        "Zoë",
        "Mateo",
        "Aaliyah",
        "Liam",
        "Ánh",
        "Noah",
        "José",
        "Björn",
        "Chloé",
        "Дмитрий",
        "Siobhán",
        "Jürgen",
        "Νίκος",
        "Maya",
        "François",
        "Renée",
    ];
    let family = [
        "O'Brien",
        "García",
        "Johnson",
        "Nguyễn",
        "D'Angelo",
        "Núñez",
        "Åkesson",
        "Dubois",
        "Соколов",
        "Ó Ceallaigh",
        "Müller",
        "Παπαδόπουλος",
        "Patel",
        "Lefèvre",
        "Smith",
        "Lee",
    ];
    let mut s = String::from(
        "sourced_id,given_name,family_name,role,school_id,class_id,class_name,teacher,school_name\n",
    );
    let mut n = 0usize;
    for sc in 0..schools {
        for cl in 0..classes {
            for _ in 0..STUDENTS {
                n += 1;
                s.push_str(&format!(
                    "stu-{n:06},{},{},student,sch-{sc:02},cls-{sc:02}-{cl:02},Grade {} – Room {cl},Teacher {cl},School {sc} Elementary\n",
                    given[n % given.len()],
                    family[(n / 3) % family.len()],
                    cl % 6 + 1,
                ));
            }
        }
    }
    s
}

fn main() {
    let (schools, classes) = match harness::mode(false) {
        harness::Mode::Measure => (SCHOOLS, CLASSES),
        harness::Mode::Smoke => (2, 2),
        harness::Mode::Done => return,
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let key = IssuerKey::demo();
    let layout = LayoutKind::Letter8.layout();
    let dir = tempfile::tempdir().unwrap();
    let v = Validity {
        issued_at: 1_788_249_600,
        expires_at: 1_814_399_999,
        second_factor: false,
    };

    let t0 = Instant::now();
    let csv = roster_csv(schools, classes);
    let roster = Roster::from_simple_csv_bytes("district.csv", csv.as_bytes()).unwrap();
    let t_roster = t0.elapsed();
    assert_eq!(roster.users().len(), schools * classes * STUDENTS);

    let part = std::env::var("PRINT40K_PART").unwrap_or_default();
    // (a) One PDF per school, schools over all cores.
    let t1 = Instant::now();
    let next = AtomicUsize::new(0);
    let bytes = AtomicUsize::new(0);
    let cards_done = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= schools || part == "b" {
                        break;
                    }
                    let sel = Selection {
                        school: Some(format!("sch-{i:02}")),
                        ..Default::default()
                    };
                    let groups = cards::plan(&roster, &sel).unwrap();
                    let issued = cards::issue(&groups, &key, &v).unwrap();
                    let pdf = card_printer::pdf::render(&issued, &layout, "bench", &()).unwrap();
                    let path = dir.path().join(format!("school-{i:02}.pdf"));
                    card_printer::output::write_atomic(&path, &pdf).unwrap();
                    bytes.fetch_add(pdf.len(), Ordering::Relaxed);
                    cards_done.fetch_add(
                        issued.iter().map(|g| g.faces.len()).sum::<usize>(),
                        Ordering::Relaxed,
                    );
                }
            });
        }
    });
    let t_schools = t1.elapsed();
    let n = cards_done.load(Ordering::Relaxed);
    let b = bytes.load(Ordering::Relaxed);

    if part == "a" {
        report_a(
            threads,
            schools,
            roster.users().len(),
            t_roster.as_secs_f64(),
            t_schools.as_secs_f64(),
            n,
            b,
        );
        return;
    }
    // (b) All 40,000 in one PDF (one command: signing, layout and compression use all cores).
    let t2 = Instant::now();
    let groups = cards::plan(&roster, &Selection::default()).unwrap();
    let issued = cards::issue(&groups, &key, &v).unwrap();
    let t_sign = t2.elapsed();
    let pdf = card_printer::pdf::render(&issued, &layout, "bench", &()).unwrap();
    card_printer::output::write_atomic(&dir.path().join("district.pdf"), &pdf).unwrap();
    let t_one = t2.elapsed();
    let n1: usize = issued.iter().map(|g| g.faces.len()).sum();

    if part != "b" {
        report_a(
            threads,
            schools,
            roster.users().len(),
            t_roster.as_secs_f64(),
            t_schools.as_secs_f64(),
            n,
            b,
        );
    }
    println!(
        "  (b) {n1} cards, one PDF (all cores):    {:>7.2} s  (plan+sign {:.2} s)  {:>6.0} cards/s  {:>5.2} KB/card  ({:.1} MB)",
        t_one.as_secs_f64(),
        t_sign.as_secs_f64(),
        n1 as f64 / t_one.as_secs_f64(),
        pdf.len() as f64 / n1 as f64 / 1024.0,
        pdf.len() as f64 / 1e6
    );
}

fn report_a(
    threads: usize,
    schools: usize,
    users: usize,
    roster: f64,
    secs: f64,
    n: usize,
    b: usize,
) {
    println!("print40k: {threads} threads available");
    println!("  roster parse ({users} users):              {roster:>7.2} s");
    println!(
        "  (a) {n} cards, {schools} PDFs (one per school), {threads} threads: {secs:>7.2} s  {:>6.0} cards/s  {:>5.2} KB/card  ({:.1} MB total)",
        n as f64 / secs,
        b as f64 / n.max(1) as f64 / 1024.0,
        b as f64 / 1e6
    );
}
