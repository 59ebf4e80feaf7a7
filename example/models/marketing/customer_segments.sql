-- Marketing audience segments built from finance's lifetime value.
select
    customer_id,
    full_name,
    country_code,
    total_paid,
    case
        when total_paid >= 300 then 'vip'
        when total_paid >= 100 then 'regular'
        when total_paid > 0 then 'occasional'
        else 'prospect'
    end as segment
from {{ ref('customer_lifetime_value') }}
