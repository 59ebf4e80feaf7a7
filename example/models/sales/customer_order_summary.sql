select
    customer_id,
    count(*) as order_count,
    count(*) filter (where is_recognized) as recognized_order_count,
    min(order_date) as first_order_date,
    max(order_date) as last_order_date,
    coalesce(sum(order_amount) filter (where is_recognized), 0) as recognized_sales
from {{ ref('orders_enriched') }}
group by customer_id
