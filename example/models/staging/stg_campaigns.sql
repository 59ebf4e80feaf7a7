with source as (
    select * from {{ ref('raw_campaigns') }}
)

select
    campaign_id,
    campaign_name,
    channel,
    starts_on as start_date,
    ends_on as end_date
from source
