{{ config(materialized='table') }}

-- Slow on purpose when demo_sleep_seconds > 0 (see payment_reconciliation).
with demo_delay as (
    select pg_sleep({{ var('demo_sleep_seconds', 0) }}) as slept
),

spend as (
    select * from {{ ref('campaign_spend') }}
),

attribution as (
    select * from {{ ref('campaign_attribution') }}
)

select
    spend.campaign_id,
    spend.campaign_name,
    spend.channel,
    spend.total_spend,
    spend.total_clicks,
    spend.total_impressions,
    coalesce(attribution.attributed_orders, 0) as attributed_orders,
    coalesce(attribution.attributed_revenue, 0) as attributed_revenue,
    round(coalesce(attribution.attributed_revenue, 0) / nullif(spend.total_spend, 0), 4) as roas,
    round(spend.total_spend / nullif(spend.total_clicks, 0), 4) as cost_per_click,
    round(spend.total_clicks::numeric / nullif(spend.total_impressions, 0), 4) as click_through_rate
from spend
left join attribution on spend.campaign_id = attribution.campaign_id
cross join demo_delay
