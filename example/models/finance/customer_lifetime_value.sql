with customers as (
    select customer_id, full_name, country_code, signup_date from {{ ref('dim_customers') }}
),

orders as (
    select
        customer_id,
        sum(amount_paid) as total_paid,
        sum(order_amount - order_cost) filter (where is_recognized) as gross_profit,
        count(*) filter (where status = 'returned') as returned_orders
    from {{ ref('order_payments') }}
    group by customer_id
)

select
    customers.customer_id,
    customers.full_name,
    customers.country_code,
    customers.signup_date,
    coalesce(orders.total_paid, 0) as total_paid,
    coalesce(orders.gross_profit, 0) as lifetime_gross_profit,
    coalesce(orders.returned_orders, 0) as returned_orders
from customers
left join orders on customers.customer_id = orders.customer_id
