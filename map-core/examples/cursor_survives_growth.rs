//! A cursor that keeps going while the map grows, shrinks and churns under it.
//!
//! Run: `cargo run -p map-core --example cursor_survives_growth`

use map_core::GoMap;

fn main() {
    let mut map = GoMap::with_seed(2026);
    for k in 0..20u64 {
        map.insert(k, k * 100);
    }
    println!("before: {:?}\n{}", map.stats(), map.diagram());

    let mut cursor = map.cursor();
    let mut yielded = Vec::new();
    while let Some((&k, &v)) = cursor.next(&map) {
        yielded.push((k, v));
        // Between steps: delete a neighbour, insert new keys (which starts a doubling growth),
        // and evacuate a little.
        map.remove(&(k ^ 1));
        map.insert(1_000 + k, 0);
        map.evacuate_step();
        map.check_invariants().expect("the map stays well-formed");
    }

    println!("yielded {} entries: {yielded:?}", yielded.len());
    println!("cursor: {:?}", cursor.stats());
    println!("after: {:?}\n{}", map.stats(), map.diagram());
}
