use curio::{Coroutine, Step, Value, Error, Location};

struct Peek<'a>(&'a String);

impl Coroutine for Peek<'_> {
    type Output = usize;
    fn resume(&mut self, _: Value) -> Step<usize> {
        Step::Return(self.0.len())
    }
    fn throw(&mut self, _: Error) -> Step<usize> {
        Step::Return(0)
    }
}

#[curio::task]
async fn measure(name: String) -> usize {
    let n = Peek(&name).await;
    n + name.len()
}

fn main() {}
