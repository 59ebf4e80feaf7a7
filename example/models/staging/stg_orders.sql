with source as (
    select * from {{ ref('raw_orders') }}
)

select
    order_id,
    customer_id,
    product_id,
    quantity,
    ordered_on as order_date,
    status,
    campaign_id
from source
