{{ config(materialized='table') }}

with customers as (
    select * from {{ ref('stg_customers') }}
),

history as (
    select
        customer_id,
        count(*) as attribute_versions,
        min(dbt_valid_from) as first_seen_at
    from {{ ref('customers_snapshot') }}
    group by customer_id
),

orders as (
    select * from {{ ref('customer_order_summary') }}
)

select
    customers.customer_id,
    customers.full_name,
    customers.email,
    customers.country_code,
    customers.signup_date,
    history.first_seen_at,
    history.attribute_versions,
    coalesce(orders.order_count, 0) as order_count,
    coalesce(orders.recognized_order_count, 0) as recognized_order_count,
    orders.first_order_date,
    orders.last_order_date,
    coalesce(orders.recognized_sales, 0) as recognized_sales
from customers
left join history on customers.customer_id = history.customer_id
left join orders on customers.customer_id = orders.customer_id
