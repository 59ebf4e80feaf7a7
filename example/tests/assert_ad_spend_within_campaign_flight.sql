-- Ad platforms must not report spend outside a campaign's flight dates.
select
    spend.ad_spend_id,
    spend.spend_date,
    campaigns.start_date,
    campaigns.end_date
from {{ ref('stg_ad_spend') }} as spend
inner join {{ ref('stg_campaigns') }} as campaigns on spend.campaign_id = campaigns.campaign_id
where spend.spend_date not between campaigns.start_date and campaigns.end_date
