using System.Globalization;

namespace FlowOrleans.Transport.Protocols;

/// <summary>
/// The deadline and error reporting of one dial: a token that fires on the caller's cancellation or the timeout,
/// and the translation of whatever failed into the right <see cref="FlowException"/>.
/// </summary>
internal sealed class DialAttempt : IDisposable
{
    private readonly CancellationTokenSource _deadline;
    private readonly CancellationToken _callerToken;
    private readonly TimeSpan _timeout;

    public DialAttempt(string protocol, string address, TimeSpan timeout, CancellationToken callerToken)
    {
        Protocol = protocol;
        Address = address;
        _timeout = timeout;
        _callerToken = callerToken;
        _deadline = CancellationTokenSource.CreateLinkedTokenSource(callerToken);
        if (timeout > TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            _deadline.CancelAfter(timeout);
        }
    }

    public string Protocol { get; }

    public string Address { get; }

    public CancellationToken Token => _deadline.Token;

    public FlowException Failure(Exception error)
    {
        if (_callerToken.IsCancellationRequested)
        {
            return new FlowException(FlowErrorCode.Aborted, $"Dialing {Protocol} address \"{Address}\" was cancelled.", error);
        }

        if (_deadline.IsCancellationRequested)
        {
            return new FlowException(
                FlowErrorCode.DialFailed,
                string.Create(CultureInfo.InvariantCulture, $"Dialing {Protocol} address \"{Address}\" timed out after {_timeout.TotalMilliseconds} ms."),
                error);
        }

        if (error is FlowException { Code: FlowErrorCode.DialFailed } dialFailed)
        {
            return dialFailed;
        }

        return new FlowException(FlowErrorCode.DialFailed, $"Dialing {Protocol} address \"{Address}\" failed: {error.Message}", error);
    }

    public FlowException Failure(string problem) => Failure(Protocol, Address, problem);

    /// <summary>The error of a dial that cannot even start, e.g. for a malformed address.</summary>
    public static FlowException Failure(string protocol, string address, string problem) =>
        new(FlowErrorCode.DialFailed, $"Dialing {protocol} address \"{address}\" failed: {problem}");

    public void Dispose() => _deadline.Dispose();
}
