with source as (
    select * from {{ ref('raw_ad_spend') }}
)

select
    campaign_id || '-' || to_char(spent_on, 'YYYYMMDD') as ad_spend_id,
    campaign_id,
    spent_on as spend_date,
    spend_usd as spend,
    clicks,
    impressions
from source
