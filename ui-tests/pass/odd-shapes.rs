//! Valid but unusual inputs: the macro must accept them without warnings.
#![deny(warnings)]

use curio::traps::{clock, sleep};

#[curio::task]
async fn empty() {}

#[curio::task]
async fn ignored_params(_: u32, (a, _b): (u32, u32), mut c: Vec<u8>) -> usize {
    c.push(1);
    let _ = sleep(0.0).await;
    c.len() + a as usize
}

#[curio::task]
async fn never_returns() -> ! {
    loop {
        let _ = sleep(1.0).await;
    }
}

#[curio::task]
async fn rest_patterns(values: (u8, u8, u8)) -> curio::Result<u8> {
    let (first, ..) = values;
    let _ = clock().await?;
    let [x, .., z] = [first, 2, 3, 4];
    Ok(x + z)
}

#[curio::task]
async fn nested_items() -> curio::Result<u32> {
    const BASE: u32 = 40;
    struct Local(u32);
    impl Local {
        fn get(&self) -> u32 {
            self.0
        }
    }
    let local = Local(2);
    sleep(0.0).await?;
    Ok(BASE + local.get())
}

#[curio::task]
async fn unsafe_and_labelled_blocks(v: Vec<u32>) -> curio::Result<u32> {
    let first = unsafe { *v.as_ptr() };
    let value = 'found: {
        for x in v {
            if x > first {
                sleep(0.0).await?;
                break 'found x;
            }
        }
        0
    };
    Ok(value)
}

fn main() {
    let _ = empty();
    let _ = ignored_params(1, (2, 3), Vec::new());
    let _ = never_returns();
    let _ = rest_patterns((1, 2, 3));
    let _ = nested_items();
    let _ = unsafe_and_labelled_blocks(vec![1, 2]);
}
