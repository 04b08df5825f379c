//! `#[curio::task]` on an `impl` block: `&self` coroutines do not hold the
//! borrow, so a task may keep `self` and await its other methods.
#![deny(warnings)]

use std::rc::Rc;

#[derive(Clone)]
struct Counter<T: Clone + 'static> {
    label: Rc<T>,
    step: u32,
}

#[curio::task]
impl<T: Clone + std::fmt::Debug + 'static> Counter<T> {
    async fn one(&self) -> curio::Result<u32> {
        curio::sleep(0.0).await?;
        Ok(self.step)
    }

    async fn two(&self) -> curio::Result<u32> {
        let a = self.one().await?;
        let b = self.one().await?;
        Ok(a + b)
    }

    async fn describe<U: std::fmt::Display + 'static>(&self, extra: U) -> curio::Result<String> {
        let n = self.two().await?;
        Ok(format!("{:?} {extra} {n}", self.label))
    }

    fn plain(&self) -> u32 {
        self.step
    }
}

fn main() {
    let c = Counter { label: Rc::new("x"), step: 2 };
    let co = c.describe(1);
    drop(c);
    let _ = co;
    let _ = Counter { label: Rc::new(1), step: 1 }.plain();
}
