-- Finance view of every order: what was billed (from the sales domain) versus what was paid.
with orders as (
    select * from {{ ref('orders_enriched') }}
),

payments as (
    select
        order_id,
        count(*) as payment_count,
        sum(amount) as amount_paid,
        sum(amount) filter (where payment_method = 'gift_card') as gift_card_amount,
        max(paid_at) as last_paid_at
    from {{ ref('stg_payments') }}
    group by order_id
)

select
    orders.order_id,
    orders.customer_id,
    orders.campaign_id,
    orders.category,
    orders.order_date,
    orders.order_month,
    orders.status,
    orders.is_recognized,
    orders.order_amount,
    orders.order_cost,
    coalesce(payments.payment_count, 0) as payment_count,
    coalesce(payments.amount_paid, 0) as amount_paid,
    coalesce(payments.gift_card_amount, 0) as gift_card_amount,
    payments.last_paid_at,
    coalesce(payments.amount_paid, 0) >= orders.order_amount as is_fully_paid
from orders
left join payments on orders.order_id = payments.order_id
