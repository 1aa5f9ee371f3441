namespace FlowOrleans.Transport.Connections;

/// <summary>
/// A byte budget that several connections reserve their receive windows and shared credit from: a manager's
/// <see cref="Manager.FlowManagerOptions.TotalReceiveBudget"/>, which bounds what all its connections together may
/// buffer, whatever each connection's own <see cref="ConnectionOptions.ReceiveBudget"/> allows. Lock-free.
/// </summary>
internal sealed class ReceiveBudgetPool(long limit)
{
    private long _reserved;

    public long Limit { get; } = limit;

    /// <summary>Bytes reserved now.</summary>
    public long Reserved => Interlocked.Read(ref _reserved);

    /// <summary>Reserves <paramref name="bytes"/>; false, reserving nothing, when they do not fit.</summary>
    public bool TryReserve(long bytes)
    {
        while (true)
        {
            var current = Interlocked.Read(ref _reserved);
            if (current + bytes > Limit)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _reserved, current + bytes, current) == current)
            {
                return true;
            }
        }
    }

    public void Return(long bytes) => Interlocked.Add(ref _reserved, -bytes);
}
