namespace FlowOrleans.Silo;

/// <summary>
/// A failure the Silo program reports as one line on stderr (the setting, its value, what is expected) and the exit
/// code of its class. Checks throw it where they know the setting; <see cref="StartFailures"/> classifies the rest.
/// </summary>
internal sealed class SiloFailure : Exception
{
    public SiloFailure(SiloExitCode code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
    }

    public SiloExitCode Code { get; }
}
