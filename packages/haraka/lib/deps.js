'use strict'
/**
 * Loads the Bounce Guard packages the plugin needs, as CommonJS (their `dist/index.cjs`). Loading
 * is lazy and never throws: a missing or broken build is reported once and the features that need
 * it are turned off, instead of stopping Haraka at start-up.
 */

function tryRequire(name) {
  try {
    return { mod: require(name) }
  } catch (err) {
    return { error: err }
  }
}

/**
 * @returns {{ core?: any, typeorm?: any, errors: string[] }}
 */
function loadDeps() {
  const errors = []
  const core = tryRequire('@bounce-guard/core')
  if (core.error) errors.push(`@bounce-guard/core could not be loaded: ${core.error.message}`)
  const typeorm = tryRequire('@bounce-guard/typeorm')
  if (typeorm.error) errors.push(`@bounce-guard/typeorm could not be loaded: ${typeorm.error.message}`)
  return { core: core.mod, typeorm: typeorm.mod, errors }
}

module.exports = { loadDeps }
