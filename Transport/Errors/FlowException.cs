namespace FlowOrleans.Transport;

/// <summary>
/// The one exception type of the Transport. Callers branch on <see cref="Code"/>, never on the message.
/// </summary>
public sealed class FlowException : Exception
{
    public FlowException(FlowErrorCode code, string message)
        : base(message)
    {
        Code = code;
    }

    public FlowException(FlowErrorCode code, string message, Exception? innerException)
        : base(message, innerException)
    {
        Code = code;
    }

    public FlowErrorCode Code { get; }

    public override string ToString() => $"FlowException({Code}): {base.ToString()}";

    // Analyzers want the standard constructors; they map to BadArg/BadState so no FlowException is code-less.
    public FlowException()
        : this(FlowErrorCode.BadState, "Flow error.")
    {
    }

    public FlowException(string message)
        : this(FlowErrorCode.BadState, message)
    {
    }

    public FlowException(string message, Exception? innerException)
        : this(FlowErrorCode.BadState, message, innerException)
    {
    }
}
