use std::cell::RefCell;

#[curio::task]
async fn tick(n: i64) -> curio::Result<i64> {
    Ok(n)
}

#[curio::task]
async fn push(items: RefCell<Vec<i64>>) -> curio::Result<usize> {
    items.borrow_mut().push(tick(1).await?);
    Ok(items.borrow().len())
}

fn main() {}
