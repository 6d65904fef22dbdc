//! [`IdMemory`]: which client id each recent venue order id belongs to, so fills (which carry
//! only the order id) can be matched to our orders without a lookup per fill.

use std::collections::{HashMap, VecDeque};

use rustrade_core::{ClientOrderId, OrderId};

/// Order ids remembered with their client ids.
const REMEMBERED_IDS: usize = 10_000;

/// A bounded map of order id → client id, forgetting the oldest first.
#[derive(Debug, Default)]
pub(crate) struct IdMemory {
    map: HashMap<OrderId, ClientOrderId>,
    order: VecDeque<OrderId>,
}

impl IdMemory {
    pub(crate) fn remember(&mut self, order: OrderId, client: ClientOrderId) {
        if self.map.insert(order, client).is_none() {
            self.order.push_back(order);
            if self.order.len() > REMEMBERED_IDS
                && let Some(old) = self.order.pop_front()
            {
                self.map.remove(&old);
            }
        }
    }

    pub(crate) fn get(&self, order: &OrderId) -> Option<ClientOrderId> {
        self.map.get(order).copied()
    }
}
