using Orleans.Storage;

namespace FlowOrleans.Grains;

/// <summary>
/// Optimistic updates of grain state. When a silo dies, a grain can briefly run in two activations; the store then
/// refuses the stale one's write by ETag (<see cref="InconsistentStateException"/>). Rather than fail the call or
/// overwrite the other's work, the update re-reads the state and applies the change again to what the other wrote.
/// </summary>
internal static class PersistentStateUpdates
{
    private const int MaxAttempts = 5;

    /// <summary>
    /// Applies <paramref name="change"/> and writes; <paramref name="change"/> returns false when there is nothing to
    /// write. It may run more than once, each time on freshly read state, so it must be a function of that state.
    /// </summary>
    public static async Task<bool> UpdateAsync<T>(this IPersistentState<T> state, Func<T, bool> change)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (!change(state.State))
            {
                return false;
            }

            try
            {
                await state.WriteStateAsync();
                return true;
            }
            catch (InconsistentStateException) when (attempt < MaxAttempts)
            {
                await state.ReadStateAsync();
            }
        }
    }

    /// <summary>Clears the state, re-reading first if another activation wrote since this one read.</summary>
    public static async Task ClearAsync<T>(this IPersistentState<T> state)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await state.ClearStateAsync();
                return;
            }
            catch (InconsistentStateException) when (attempt < MaxAttempts)
            {
                await state.ReadStateAsync();
            }
        }
    }
}
