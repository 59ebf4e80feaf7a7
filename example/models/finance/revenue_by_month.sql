select
    order_month,
    count(*) filter (where is_recognized) as recognized_orders,
    coalesce(sum(order_amount) filter (where is_recognized), 0) as gross_revenue,
    coalesce(sum(order_amount) filter (where status = 'returned'), 0) as refunded_amount,
    coalesce(sum(order_cost) filter (where is_recognized), 0) as cost_of_goods,
    coalesce(sum(order_amount - order_cost) filter (where is_recognized), 0) as gross_profit,
    coalesce(sum(amount_paid), 0) as cash_collected
from {{ ref('order_payments') }}
group by order_month
