-- Last-touch attribution: revenue of recognized orders carrying a campaign_id. Reads the finance domain.
select
    campaign_id,
    count(*) as attributed_orders,
    count(distinct customer_id) as attributed_customers,
    sum(order_amount) as attributed_revenue,
    sum(amount_paid) as attributed_cash
from {{ ref('order_payments') }}
where campaign_id is not null
  and is_recognized
group by campaign_id
