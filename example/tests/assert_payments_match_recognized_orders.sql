-- Every shipped, completed or returned order must be paid in full, and nothing may be overpaid.
-- Spans two domains: finance.order_payments and sales.orders_enriched.
select
    orders.order_id,
    orders.status,
    orders.order_amount,
    payments.amount_paid
from {{ ref('orders_enriched') }} as orders
inner join {{ ref('order_payments') }} as payments on orders.order_id = payments.order_id
where orders.status <> 'placed'
  and payments.amount_paid <> orders.order_amount
