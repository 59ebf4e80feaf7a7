{{ config(materialized='table') }}

with orders as (
    select * from {{ ref('stg_orders') }}
),

products as (
    select * from {{ ref('stg_products') }}
)

select
    orders.order_id,
    orders.customer_id,
    orders.product_id,
    products.product_name,
    products.category,
    orders.campaign_id,
    orders.order_date,
    date_trunc('month', orders.order_date)::date as order_month,
    orders.status,
    orders.quantity,
    orders.quantity * products.unit_price as order_amount,
    orders.quantity * products.unit_cost as order_cost,
    orders.status in ('shipped', 'completed') as is_recognized
from orders
inner join products on orders.product_id = products.product_id
