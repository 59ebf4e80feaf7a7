select *
from {{ ref('revenue_by_month') }}
where gross_revenue < 0 or gross_profit < 0 or cash_collected < 0
