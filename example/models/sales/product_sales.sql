select
    product_id,
    product_name,
    category,
    count(*) filter (where is_recognized) as orders_sold,
    coalesce(sum(quantity) filter (where is_recognized), 0) as units_sold,
    coalesce(sum(order_amount) filter (where is_recognized), 0) as sales_amount,
    count(*) filter (where status = 'returned') as orders_returned
from {{ ref('orders_enriched') }}
group by product_id, product_name, category
