-- Deliberately the slowest model of the project: set --vars '{demo_sleep_seconds: 5}' to make it sleep,
-- so that concurrent chunks are visible in a demo. The default is 0 (no delay).
with demo_delay as (
    select pg_sleep({{ var('demo_sleep_seconds', 0) }}) as slept
),

payments as (
    select * from {{ ref('stg_payments') }}
),

orders as (
    select order_id, status, order_amount from {{ ref('order_payments') }}
),

by_method as (
    select
        payments.payment_method,
        count(*) as payment_count,
        count(distinct payments.order_id) as order_count,
        sum(payments.amount) as amount_collected,
        sum(payments.amount) filter (where orders.status = 'returned') as amount_to_refund
    from payments
    inner join orders on payments.order_id = orders.order_id
    group by payments.payment_method
)

select
    by_method.payment_method,
    by_method.payment_count,
    by_method.order_count,
    by_method.amount_collected,
    coalesce(by_method.amount_to_refund, 0) as amount_to_refund
from by_method
cross join demo_delay
