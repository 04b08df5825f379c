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

/// Locals named like the generated code's own variables.
#[curio::task]
async fn generated_names(value: u32) -> curio::Result<u32> {
    let state = value + 1;
    let input = state * 2;
    curio::sleep(0.0).await?;
    let sub = input + value;
    curio::sleep(0.0).await?;
    Ok(state + input + sub + value)
}

/// Locals consumed by a method (`map`), inside a macro (`x.unwrap_err()`)
/// or by a nested `coroutine!` block, then not used after later awaits.
#[curio::task]
async fn consumed_locals() -> curio::Result<()> {
    let e = curio::sleep(1.0).await.unwrap_err();
    println!("sleep: {e}");
    let pair = (Some(1u8), Some(2u8));
    curio::sleep(0.0).await?;
    let (r, w) = pair;
    let ids = (r.map(u32::from), w.map(u32::from));
    curio::sleep(0.0).await?;
    let outcome: curio::Result<()> = Ok(());
    println!("{:?}", outcome.unwrap_err());
    curio::sleep(0.0).await?;
    let label = String::from("x");
    curio::disable_cancellation(curio::coroutine!({
        println!("{label} {:?}", Some(1).map(|e| e + 1));
        curio::sleep(0.0).await?;
        Ok::<(), curio::Error>(())
    }))
    .await?;
    curio::sleep(0.0).await?;
    println!("{ids:?}");
    Ok(())
}

fn main() {
    let _ = consumed_locals();
    let _ = generated_names(1);
    let _ = empty();
    let _ = ignored_params(1, (2, 3), Vec::new());
    let _ = never_returns();
    let _ = rest_patterns((1, 2, 3));
    let _ = nested_items();
    let _ = unsafe_and_labelled_blocks(vec![1, 2]);
}
