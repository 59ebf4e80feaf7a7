{{ config(materialized='view') }}

select
    category,
    sum(order_amount) as revenue,
    sum(order_cost) as cost_of_goods,
    sum(order_amount - order_cost) as gross_profit,
    round(sum(order_amount - order_cost) / nullif(sum(order_amount), 0), 4) as gross_margin_pct
from {{ ref('order_payments') }}
where is_recognized
group by category
