// linkwork's only script of its own. Loaded as a module from 'self' (the Content-Security-Policy
// allows no inline script): it marks the page as script-capable, as the NHS.UK template's inline
// snippet would, and starts the NHS.UK frontend components.
import { initAll } from '/assets/nhsuk-frontend.min.js'

document.body.classList.add('js-enabled', 'nhsuk-frontend-supported')
initAll()
