with spend as (
    select * from {{ ref('stg_ad_spend') }}
),

campaigns as (
    select * from {{ ref('stg_campaigns') }}
)

select
    campaigns.campaign_id,
    campaigns.campaign_name,
    campaigns.channel,
    campaigns.start_date,
    campaigns.end_date,
    coalesce(sum(spend.spend), 0) as total_spend,
    coalesce(sum(spend.clicks), 0) as total_clicks,
    coalesce(sum(spend.impressions), 0) as total_impressions
from campaigns
left join spend on campaigns.campaign_id = spend.campaign_id
group by 1, 2, 3, 4, 5
